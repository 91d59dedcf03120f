from ferrolens.cli import main

raise SystemExit(main())
