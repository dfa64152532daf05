"""Start Clinic Intake: the window, or a headless command (see --help)."""

from desktop.app import main

if __name__ == "__main__":
    main()
