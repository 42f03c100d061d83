"""One APIRouter per resource; routes stay thin and call the service layer."""
