"""The shop assistant application: settings, process supervision, and (later) profiles,
escalations and the agent console."""
