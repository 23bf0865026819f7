"""The kiosk: camera, face pipeline, local record store and screen."""
