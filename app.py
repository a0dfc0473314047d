"""WSGI entry point: gunicorn app:app, flask --app app …"""

from nexus import create_app

app = create_app()
