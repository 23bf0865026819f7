"""The HTTP edge: request body limits and the client address behind trusted proxies."""
