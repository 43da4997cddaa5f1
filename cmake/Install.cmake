# cmake --install puts binaries, the unit, sysusers/tmpfiles entries, the config file, man pages
# and bash completion in place; CPack builds two .debs from the same rules, one per component:
#   dialerd       dialerd, dialerctl and everything that runs them as a service
#   vocobase-sim  the Partner API simulator (demo, tests, benchmarks)
include(GNUInstallDirs)

# `cpack` and `cmake --build --target install` install what is built; they do not build it first.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

foreach(bin dialerd dialerctl)
  if(TARGET ${bin})
    install(TARGETS ${bin} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT dialerd)
  endif()
endforeach()
if(TARGET vocobase-sim)
  install(TARGETS vocobase-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sim)
endif()

# The unit names the binary where it is installed: generated at install time, when the prefix
# is known (cmake --install --prefix …, and /usr for the .deb), not at configure time.
install(CODE "
  set(DIALERD_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(DIALERD_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATAROOTDIR}/doc/dialerd\")
  configure_file(\"${PROJECT_SOURCE_DIR}/systemd/dialerd.service.in\"
                 \"${PROJECT_BINARY_DIR}/install-unit/dialerd.service\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/install-unit/dialerd.service\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
" COMPONENT dialerd)
install(FILES systemd/dialerd.sysusers.conf DESTINATION lib/sysusers.d RENAME dialerd.conf
        COMPONENT dialerd)
install(FILES systemd/dialerd.tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME dialerd.conf
        COMPONENT dialerd)

# /etc/dialerd/dialerd.yaml (a conffile in the .deb). The config directory follows the prefix the
# way GNUInstallDirs does: /usr → /etc, anything else → PREFIX/etc. Decided at install time, like
# the unit, so that `cmake --install --prefix DIR` never writes to the build machine's /etc. An
# existing file is the operator's: kept, never overwritten.
install(CODE "
  get_filename_component(_dialerd_prefix_name \"\${CMAKE_INSTALL_PREFIX}\" NAME)
  if(_dialerd_prefix_name STREQUAL \"usr\")
    get_filename_component(_dialerd_sysconf \"\${CMAKE_INSTALL_PREFIX}/../etc\" ABSOLUTE)
  else()
    set(_dialerd_sysconf \"\${CMAKE_INSTALL_PREFIX}/etc\")
  endif()
  if(EXISTS \"\$ENV{DESTDIR}\${_dialerd_sysconf}/dialerd/dialerd.yaml\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${_dialerd_sysconf}/dialerd/dialerd.yaml\")
  else()
    file(INSTALL \"${PROJECT_SOURCE_DIR}/packaging/dialerd.yaml\"
         DESTINATION \"\${_dialerd_sysconf}/dialerd\")
  endif()
" COMPONENT dialerd)

# Man pages, gzipped (-n: no name or timestamp in the header, so the .deb is reproducible).
set(DIALERD_MAN_PAGES
  "dialerd.8:dialerd" "dialerctl.8:dialerd" "dialerd.yaml.5:dialerd" "vocobase-sim.1:sim")
foreach(entry IN LISTS DIALERD_MAN_PAGES)
  string(REPLACE ":" ";" entry "${entry}")
  list(GET entry 0 page)
  list(GET entry 1 component)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section "${page}")
  install(CODE "
    file(MAKE_DIRECTORY \"${PROJECT_BINARY_DIR}/install-man\")
    execute_process(COMMAND gzip -9 -n -c
                    INPUT_FILE \"${PROJECT_SOURCE_DIR}/man/${page}\"
                    OUTPUT_FILE \"${PROJECT_BINARY_DIR}/install-man/${page}.gz\"
                    RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"gzip man/${page}: \${_rc}\")
    endif()
    file(INSTALL \"${PROJECT_BINARY_DIR}/install-man/${page}.gz\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_MANDIR}/man${section}\")
  " COMPONENT ${component})
endforeach()

install(FILES contrib/bash-completion/dialerctl
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/bash-completion/completions COMPONENT dialerd)

# Documentation: README, examples, and what every .deb carries in /usr/share/doc/<package>:
# copyright and a gzipped Debian changelog; and lintian overrides (each one explained).
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/dialerd COMPONENT dialerd)
install(FILES systemd/dialerd.example.yaml
              contrib/prometheus/dialerd.rules.yml contrib/grafana/dialerd.json
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/dialerd/examples COMPONENT dialerd)
set(DIALERD_DEB_RELEASE 1)
# A placeholder address on a reserved domain (lintian refuses hosts such as localhost).
set(DIALERD_MAINTAINER "dialerd maintainers <dialerd@example.org>")
foreach(pkg dialerd vocobase-sim)
  if(pkg STREQUAL "dialerd")
    set(component dialerd)
  else()
    set(component sim)
  endif()
  install(CODE "
    set(DIALERD_PACKAGE ${pkg})
    set(PROJECT_VERSION ${PROJECT_VERSION})
    set(DIALERD_DEB_RELEASE ${DIALERD_DEB_RELEASE})
    set(DIALERD_MAINTAINER \"${DIALERD_MAINTAINER}\")
    # The packaging date; SOURCE_DATE_EPOCH, when set, fixes it (reproducible builds).
    string(TIMESTAMP DIALERD_CHANGELOG_DATE \"%a, %d %b %Y %H:%M:%S +0000\" UTC)
    configure_file(\"${PROJECT_SOURCE_DIR}/packaging/deb/changelog.in\"
                   \"${PROJECT_BINARY_DIR}/install-doc/${pkg}/changelog.Debian\" @ONLY)
    execute_process(COMMAND gzip -9 -n -f \"${PROJECT_BINARY_DIR}/install-doc/${pkg}/changelog.Debian\"
                    RESULT_VARIABLE _rc)
    if(NOT _rc EQUAL 0)
      message(FATAL_ERROR \"gzip changelog.Debian: \${_rc}\")
    endif()
    file(INSTALL \"${PROJECT_BINARY_DIR}/install-doc/${pkg}/changelog.Debian.gz\"
                 \"${PROJECT_SOURCE_DIR}/packaging/deb/copyright\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATAROOTDIR}/doc/${pkg}\")
    configure_file(\"${PROJECT_SOURCE_DIR}/packaging/deb/lintian-overrides.in\"
                   \"${PROJECT_BINARY_DIR}/install-doc/${pkg}/${pkg}\" @ONLY)
    file(INSTALL \"${PROJECT_BINARY_DIR}/install-doc/${pkg}/${pkg}\"
         DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATAROOTDIR}/lintian/overrides\")
  " COMPONENT ${component})
endforeach()

# --- the .debs ----------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dialerd)
set(CPACK_PACKAGE_VENDOR "dialerd maintainers")
set(CPACK_PACKAGE_CONTACT "${DIALERD_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_COMPONENTS_ALL dialerd sim)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${DIALERD_DEB_RELEASE})
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Maintainer scripts 0755, conffiles 0644, whatever the modes in the source tree.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_DIALERD_PACKAGE_NAME dialerd)
set(CPACK_DEBIAN_DIALERD_PACKAGE_SECTION net)
# systemd-sysusers and systemd-tmpfiles (postinst) come with systemd.
set(CPACK_DEBIAN_DIALERD_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_DIALERD_PACKAGE_SUGGESTS "vocobase-sim, prometheus")
# Descriptions: the first line is the synopsis; CPack indents the rest for the control file.
# (No CPACK_PACKAGE_DESCRIPTION_SUMMARY: CPack would put it before both descriptions.)
set(CPACK_DEBIAN_DIALERD_DESCRIPTION
"outbound call-campaign dialer for the Vocobase Partner API
dialerd runs outbound call campaigns through the Vocobase Partner API v2: it
takes CSV contact lists, keeps every campaign inside the account's
concurrency limit, request-rate limits, credit balance and each callee's
local calling hours, and tracks every call to its outcome through signed
webhooks, with polling as the fallback.

This package holds the daemon (a sandboxed systemd service, not started on
installation), dialerctl to control it over a local admin socket (for
members of the group dialerd), man pages and bash completion.")
set(CPACK_DEBIAN_DIALERD_PACKAGE_CONTROL_EXTRA
  "${PROJECT_SOURCE_DIR}/packaging/deb/conffiles"
  "${PROJECT_SOURCE_DIR}/packaging/deb/postinst"
  "${PROJECT_SOURCE_DIR}/packaging/deb/prerm"
  "${PROJECT_SOURCE_DIR}/packaging/deb/postrm")

set(CPACK_DEBIAN_SIM_PACKAGE_NAME vocobase-sim)
set(CPACK_DEBIAN_SIM_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_SIM_DESCRIPTION
"simulator of the Vocobase Partner API v2, for testing dialers
vocobase-sim serves the Partner API v2 call, configuration and session
endpoints with their limits (rate buckets, concurrency, credits), moves
calls through their states with seeded or scripted outcomes, delivers
signed session.completed webhooks and injects faults on demand. It is the
test double of dialerd's demo, tests and benchmarks.")
include(CPack)

cpack_add_component(dialerd DISPLAY_NAME "dialerd"
  DESCRIPTION "The dialer daemon, dialerctl, unit, config, man pages")
cpack_add_component(sim DISPLAY_NAME "vocobase-sim"
  DESCRIPTION "The Partner API simulator")
