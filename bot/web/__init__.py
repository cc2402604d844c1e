"""The web service (aiohttp): the application factory and its keys, the agent console, the
widget's endpoints and assets. Imports the workers it hosts, the domain and the store."""
