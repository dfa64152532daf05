"""The pages of the window: sign-in, the start screen and the patient page."""
