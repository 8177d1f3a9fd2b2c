"""The chat web UI (Gradio). Built in a later step; see the project issues."""
