"""The command line: one-shot questions, a REPL, segmentation checks and evaluation."""
