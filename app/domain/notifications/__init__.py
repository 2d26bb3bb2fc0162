"""In-app notifications and reminders: who is told what, and when a reminder is due."""
