# mk/install.mk — `make install` / `make uninstall` (GNU conventions: PREFIX,
# DESTDIR and the usual directory variables may be given on the command line).
#
#   make install PREFIX=/usr/local          (the default)
#   make install DESTDIR=/tmp/stage PREFIX=/usr
#   make uninstall PREFIX=...               (removes exactly what install put)
#
# Layout (what an installed rtchaos relies on; harness/datadir.h):
#   $(bindir)/rtchaos, rtchaos-server, rtchaos-proxy  (side by side: rtchaos
#       starts the other two from its own folder)
#   $(pkgdatadir)/scenarios/...      the shipped scenarios and suites, the
#       source tree's layout (suites name their scenarios relatively)
#   $(pkgdatadir)/docs/runbooks/...  the runbooks the drills suite names
#       (docs/runbooks/X.md from the suite's ../..)
#   $(pkgdatadir)/deploy/...         the Grafana dashboard and Prometheus rules
#   $(mandir)/man{1,5,8}/...         man pages (man/)
#   $(bashcompdir)/rtchaos           bash completion (completion/)
#   $(docdir)/...                    README.md, docs/*.md, ci/ recipes
# `install-files` copies without building first: the packaging test and
# debian/rules call it after their own build (BINDIR= names the binaries).
PREFIX      ?= /usr/local
DESTDIR     ?=
bindir      ?= $(PREFIX)/bin
datarootdir ?= $(PREFIX)/share
pkgdatadir  ?= $(datarootdir)/rtchaos
mandir      ?= $(datarootdir)/man
docdir      ?= $(datarootdir)/doc/rtchaos
bashcompdir ?= $(datarootdir)/bash-completion/completions
INSTALL     ?= install

INSTALL_BINS  := rtchaos rtchaos-server rtchaos-proxy
INSTALL_DATA  := $(shell find scenarios -type f ! -name '*~' | sort) $(wildcard docs/runbooks/*.md) \
                 $(wildcard deploy/grafana/*.json deploy/prometheus/*.yml)
INSTALL_MAN   := $(wildcard man/*.[1-8])
INSTALL_DOCS  := README.md $(wildcard docs/*.md) $(wildcard ci/*.yml ci/*.sh ci/*.json)

.PHONY: install install-files uninstall
install: all
	$(MAKE) --no-print-directory install-files

install-files:
	$(INSTALL) -d $(DESTDIR)$(bindir)
	$(INSTALL) -m 755 $(addprefix $(BINDIR)/,$(INSTALL_BINS)) $(DESTDIR)$(bindir)/
	@set -e; for f in $(INSTALL_DATA); do \
	  $(INSTALL) -D -m 644 $$f $(DESTDIR)$(pkgdatadir)/$$f; done
	@echo "installed $(words $(INSTALL_DATA)) scenario and runbook files into $(DESTDIR)$(pkgdatadir)"
	@set -e; for f in $(INSTALL_MAN); do \
	  s=$${f##*.}; $(INSTALL) -D -m 644 $$f $(DESTDIR)$(mandir)/man$$s/$${f##*/}; done
	$(if $(wildcard completion/rtchaos.bash),$(INSTALL) -D -m 644 completion/rtchaos.bash $(DESTDIR)$(bashcompdir)/rtchaos)
	@set -e; for f in $(INSTALL_DOCS); do \
	  $(INSTALL) -D -m 644 $$f $(DESTDIR)$(docdir)/$$f; done

uninstall:
	rm -f $(addprefix $(DESTDIR)$(bindir)/,$(INSTALL_BINS))
	rm -f $(foreach f,$(INSTALL_MAN),$(DESTDIR)$(mandir)/man$(subst .,,$(suffix $(f)))/$(notdir $(f)))
	rm -f $(DESTDIR)$(bashcompdir)/rtchaos
	rm -rf $(DESTDIR)$(pkgdatadir) $(DESTDIR)$(docdir)
