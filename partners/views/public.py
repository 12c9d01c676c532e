"""Routes are declared next to their views; the app's urls.py collects them."""

urlpatterns: list = []
