from connectfour.cli.main import main

raise SystemExit(main())
