"""The admin page (管理端): server-rendered forms for handlers and supervisors, no JavaScript.

Signed cookie sessions with idle and absolute timeouts (``auth``), a per-session CSRF token on every
form (``csrf``), and views that call the complaints and supervision services (``routes``).
"""
