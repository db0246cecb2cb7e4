from shopguard.cli import main

raise SystemExit(main())
