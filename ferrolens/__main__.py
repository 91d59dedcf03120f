from ferrolens.cli import entry

entry()
