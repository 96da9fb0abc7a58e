"""What reads the package's own files: the mail templates and the onboarding playbooks."""
