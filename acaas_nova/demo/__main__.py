import sys

from acaas_nova.demo import cli

sys.exit(cli.main())
