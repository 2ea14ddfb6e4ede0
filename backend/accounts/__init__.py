"""Who may call the API: agency clients (publishing) and admin users (handlers, supervisors)."""
