"""The use cases, each one unit of work over the store: intake and the help desk (with its
collaborators), onboarding, the SLA watch, the weekly summaries and the outbox."""
