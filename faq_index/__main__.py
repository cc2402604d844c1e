import sys

from faq_index.cli import main

sys.exit(main())
