# motcua - build, test, demo, bench.
#
#   make            build every program into build/bin/
#   make check      install missing packages, build, run every test (unit + integration)
#   make asan       the same tests under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)
#   make demo       run the pipeline on a throwaway PostgreSQL with sample dossiers
#   make chaos      the fault test: load, kill -9s, a PostgreSQL crash; nothing lost (CHAOS_SEED=S replays)
#   make ha         several hosts (namespaces), Patroni failover, two of each daemon: nothing lost (docs/ha.md)
#   make bench      pgbench, intake, end to end, delay lines, a filled store, report speed (<= 15 min)
#   make deps       install the Debian packages motcua needs (apt-get as root, else sudo)
#   make openapi    regenerate docs/openapi.json from the .proto descriptors
#   make install    install the programs, units, configuration, docs (PREFIX=/usr/local, DESTDIR)

BUILD    ?= build
# common/ by kind (docs/architecture.md): util is generic, the rest is motcua's own;
# cli is what the command-line programs share, report the report engine
COMMON_ROOMS := common/util common/config common/wire common/store common/daemon \
                common/cli common/report
CC       ?= cc
SAN      ?=
OPT      ?= -O2 -g
PKGS     := libzmq libprotobuf-c yaml-0.1 libpq libsystemd libcurl libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS   := -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wformat=2 \
            -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            $(OPT) $(SAN) $(addprefix -I ,$(COMMON_ROOMS)) -I tests -I tests/harness -I $(BUILD)/gen $(PKG_CFLAGS) \
            $(shell pkg-config --cflags libpng zlib 2>/dev/null) -MMD -MP
# protoc-c's output is not ours to lint
GEN_CFLAGS := $(filter-out -Wshadow -Wformat=2,$(CFLAGS))
LDFLAGS  := $(SAN)
LDLIBS   := $(PKG_LIBS) -lpthread

PROTOS   := $(wildcard proto/motcua/v1/*.proto proto/motcua/internal/v1/*.proto)
GEN_C    := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
GEN_H    := $(GEN_C:.c=.h)
MIGRATIONS := $(sort $(wildcard common/store/migrations/*.sql))

COMMON_SRC := $(wildcard $(addsuffix /*.c,$(COMMON_ROOMS)))
COMMON_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(COMMON_SRC)) \
              $(patsubst $(BUILD)/gen/%.c,$(BUILD)/obj/gen/%.o,$(GEN_C)) \
              $(BUILD)/obj/gen/mc_migrations_data.o
LIB      := $(BUILD)/lib/libmotcua.a

# every services/NAME with C files is a program: motcua-NAME, except cli → motcua
# (the command-line programs: motcua, motcua-admin, motcua-report, motcua-load)
SERVICES := $(sort $(foreach d,$(wildcard services/*/),$(if $(wildcard $(d)*.c),$(notdir $(d:/=)))))
bin_name  = $(if $(filter cli,$(1)),motcua,motcua-$(1))
BINS     := $(foreach s,$(SERVICES),$(BUILD)/bin/$(call bin_name,$(s)))

UNIT_SRC := $(wildcard tests/unit/test_*.c)
IT_SRC   := $(wildcard tests/it/it_*.c)
HARNESS_SRC := $(wildcard tests/harness/*.c)
HARNESS_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(HARNESS_SRC))
TESTS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC)) \
            $(patsubst tests/it/%.c,$(BUILD)/tests/%,$(IT_SRC))
# the fault test (make chaos; it_chaos runs its short version): not it_*/test_*, run.sh skips it
CHAOS_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/chaos/*.c))

.PHONY: all programs install deps check asan demo bench chaos ha clean install-deps-if-missing openapi
.DEFAULT_GOAL := all
.SECONDARY:

all: $(BINS) $(TESTS) $(BUILD)/tests/chaos $(BUILD)/tests/fakeportal $(BUILD)/bench/delayproxy \
     $(BUILD)/tests/ha-netlab $(BUILD)/tools/mc-openapi

# the programs alone (what `make install` and the Debian package build)
programs: $(BINS)

# one version for every program (--version, the `started` line): the VERSION file;
# debian/changelog says the same (tests/it/package.sh checks)
MOTCUA_VERSION := $(shell cat VERSION 2>/dev/null || echo unknown)
$(BUILD)/obj/common/util/mc_version.o: CFLAGS += -DMC_VERSION='"$(MOTCUA_VERSION)"'
$(BUILD)/obj/common/util/mc_version.o: VERSION

# --- generated code -------------------------------------------------------
$(BUILD)/gen/%.pb-c.c $(BUILD)/gen/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/gen
	protoc-c --proto_path=proto --c_out=$(BUILD)/gen $<

# the folder too: its time changes when a migration is added, renamed or removed
$(BUILD)/gen/mc_migrations_data.c: $(MIGRATIONS) common/store/migrations deploy/embed-sql.sh
	@mkdir -p $(dir $@)
	sh deploy/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

# --- objects --------------------------------------------------------------
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(GEN_CFLAGS) -c $< -o $@

$(BUILD)/obj/%.o: %.c $(GEN_H)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# --- programs -------------------------------------------------------------
define service_rule
$(BUILD)/bin/$(call bin_name,$(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard services/$(1)/*.c)) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(SERVICES),$(eval $(call service_rule,$(s))))
# the web door alone serves HTTP (libmicrohttpd)
$(BUILD)/bin/motcua-gateway: LDLIBS += $(shell pkg-config --libs libmicrohttpd 2>/dev/null)
# libcrypt (crypt(3)): the ward dashboard's staff passwords (motcua-admin staff-passwd, the gateway's logins)
$(BUILD)/bin/motcua-admin $(BUILD)/bin/motcua-gateway: LDLIBS += -lcrypt

# tests also link libpng (tests/harness/png_check reads PNGs) and zlib (test_png_check
# makes them); the daemons do not
TEST_PKGS   := libpng zlib
TEST_LDLIBS := $(LDLIBS) $(shell pkg-config --libs $(TEST_PKGS) 2>/dev/null)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIB),$^) $(LIB) $(TEST_LDLIBS)

$(BUILD)/tests/it_%: $(BUILD)/obj/tests/it/it_%.o $(HARNESS_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(BUILD)/tests/chaos: $(CHAOS_OBJ) $(HARNESS_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

# the fake national portal (tests/fakeportal): a test tool for the demo and for integrators,
# not a daemon; run.sh skips it (not it_*/test_*)
$(BUILD)/tests/fakeportal: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard tests/fakeportal/*.c)) \
                           $(BUILD)/obj/tests/harness/http_fake.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the OpenAPI description of the REST door, from the descriptors (common/wire/mc_openapi.h);
# `make openapi` rewrites docs/openapi.json, tests/unit/test_openapi checks it is current
$(BUILD)/tools/mc-openapi: $(BUILD)/obj/tools/openapi/mc_openapi.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

openapi: $(BUILD)/tools/mc-openapi
	$(BUILD)/tools/mc-openapi docs/openapi.json

# unit tests of code outside common/: the objects they need besides libmotcua.a
$(BUILD)/tests/test_png_check: $(BUILD)/obj/tests/harness/png_check.o
$(BUILD)/tests/test_report_svg: $(BUILD)/obj/tests/harness/png_check.o
$(BUILD)/tests/test_decide: $(BUILD)/obj/services/notify/notify_decide.o \
                            $(BUILD)/obj/services/lienthong/lienthong_decide.o
$(BUILD)/obj/tests/unit/test_decide.o: CFLAGS += -I services/notify -I services/lienthong
$(BUILD)/tests/test_sms: $(BUILD)/obj/services/notify/notify_templates.o
$(BUILD)/obj/tests/unit/test_sms.o: CFLAGS += -I services/notify
$(BUILD)/tests/test_fakeportal: $(BUILD)/obj/tests/fakeportal/fakeportal_check.o \
                                $(BUILD)/obj/tests/fakeportal/fakeportal_ledger.o
$(BUILD)/tests/test_staff: $(BUILD)/obj/services/gateway/gateway_staff.o
$(BUILD)/tests/test_staff: TEST_LDLIBS += -lcrypt
$(BUILD)/obj/tests/unit/test_staff.o: CFLAGS += -I services/gateway

# --- install (GNU conventions: PREFIX, DESTDIR; the Debian package: PREFIX=/usr) ---
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
SYSCONFDIR  ?= /etc
# the programs read /etc/motcua/motcua.yaml whatever PREFIX is
CONFDIR     ?= $(SYSCONFDIR)/motcua
UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
DOCDIR      ?= $(PREFIX)/share/doc/motcua
MANDIR      ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# the gateway's pages (gateway.web_dir; docs/web.md)
WEBDIR      ?= $(PREFIX)/share/motcua/web
# ... where the gateway looks when gateway.web_dir has no pages (the shipped ../web from /etc/motcua)
$(BUILD)/obj/services/gateway/gateway_pages.o: CFLAGS += -DMC_WEB_INSTALLED='"$(WEBDIR)"'
INSTALL     ?= install

install: $(BINS)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CONFDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(COMPLETIONDIR)
	$(INSTALL) -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	# the units name /usr/bin and /usr/share/doc: the installed ones name BINDIR and DOCDIR
	for f in deploy/systemd/*.service deploy/systemd/*.timer deploy/systemd/*.target; do \
	    sed -e 's|/usr/bin/motcua|$(BINDIR)/motcua|g' -e 's|/usr/share/doc/motcua|$(DOCDIR)|g' \
	        "$$f" > $(DESTDIR)$(UNITDIR)/$${f##*/} && chmod 644 $(DESTDIR)$(UNITDIR)/$${f##*/} || exit 1; \
	done
	$(INSTALL) -m 644 deploy/systemd/motcua.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/motcua.conf
	$(INSTALL) -m 644 deploy/systemd/motcua.tmpfiles.conf $(DESTDIR)$(TMPFILESDIR)/motcua.conf
	# the example configuration never replaces an operator's file
	for f in config/*.yaml; do \
	    if [ -e $(DESTDIR)$(CONFDIR)/$${f##*/} ]; then echo "kept $(DESTDIR)$(CONFDIR)/$${f##*/}"; \
	    else $(INSTALL) -m 644 "$$f" $(DESTDIR)$(CONFDIR)/ || exit 1; fi; \
	done
	$(INSTALL) -m 644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/
	# what motcua-gateway serves at /v1/openapi.json when gateway.openapi_file is not there
	if [ -e docs/openapi.json ]; then $(INSTALL) -m 644 docs/openapi.json $(DESTDIR)$(DOCDIR)/; fi
	$(INSTALL) -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 644 man/*.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 644 deploy/bash-completion/motcua $(DESTDIR)$(COMPLETIONDIR)/motcua
	ln -sf motcua $(DESTDIR)$(COMPLETIONDIR)/motcua-admin
	$(INSTALL) -d $(DESTDIR)$(WEBDIR)/static
	$(INSTALL) -m 644 web/*.html $(DESTDIR)$(WEBDIR)/
	$(INSTALL) -m 644 web/static/* $(DESTDIR)$(WEBDIR)/static/

# --- workflows ------------------------------------------------------------
deps:
	sh deploy/install-deps.sh

install-deps-if-missing:
	@sh deploy/install-deps.sh --if-missing

check: install-deps-if-missing
	$(MAKE) all
	sh tests/run.sh $(BUILD)

asan: install-deps-if-missing
	$(MAKE) BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	    SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" all
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    sh tests/run.sh build-asan

demo: install-deps-if-missing
	$(MAKE) all
	sh deploy/demo.sh $(BUILD)

# the whole fault test (tests/chaos/chaos.c): seed from the clock unless CHAOS_SEED=S
chaos: install-deps-if-missing
	$(MAKE) all
	MOTCUA_BUILD=$(BUILD) $(BUILD)/tests/chaos

# the reference deployment under faults (tests/ha/ha.sh, docs/ha.md): root, network namespaces
ha:
	sh deploy/install-deps.sh --ha --if-missing
	$(MAKE) programs $(BUILD)/tests/ha-netlab
	bash tests/ha/ha.sh $(BUILD)

# the link emulator of make ha (tests/ha/netlab.c: delay, loss, partitions without netem)
$(BUILD)/tests/ha-netlab: tests/ha/netlab.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -o $@ $<

bench: install-deps-if-missing
	$(MAKE) all $(BUILD)/bench/delayproxy
	sh bench/run.sh $(BUILD)

# the TCP delay line of the bench and of it_lienthong (bench/delayproxy.c: latency tolerance, issue 11 point 3)
$(BUILD)/bench/delayproxy: bench/delayproxy.c
	@mkdir -p $(dir $@)
	$(CC) $(filter-out -MMD -MP,$(CFLAGS)) -o $@ $<

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
