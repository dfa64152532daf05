"""The consultation page and its steps, from the procedure to signing and printing."""
