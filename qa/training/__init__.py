"""Training the models article-qa ships (the reader): data, mining, one command."""
