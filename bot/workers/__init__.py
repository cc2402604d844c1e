"""Background work of the web service: ingestion of Rasa's events (SQL broker or RabbitMQ)
into profiles and tickets, with dead letters and health figures, and delivery of the outbox
through Rasa's HTTP API. Imports the domain and the store, never the web layer."""
