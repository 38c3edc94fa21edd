"""Turn corpus files into articles made of paragraphs and cited sentences."""
