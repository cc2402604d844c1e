"""Running the assistant: the processes (Rasa, the action server, the web service), their
supervision, Rasa's stores, private files, the terminal chat. The top layer."""
