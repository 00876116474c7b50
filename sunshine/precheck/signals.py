"""Hooks this app hangs on other apps at start-up: the SMS engine's numbered-answer handler
(reply 1 = confirm an appointment, 2 = ask for another time)."""
