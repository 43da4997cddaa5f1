# cmake --install puts binaries, the unit, sysusers/tmpfiles entries and the example config in
# place; CPack builds a .deb from the same rules.
include(GNUInstallDirs)
foreach(bin dialerd dialerctl vocobase-sim)
  if(TARGET ${bin})
    install(TARGETS ${bin} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()
# The unit names the binary where it is installed: generated at install time, when the prefix
# is known (cmake --install --prefix …, and /usr for the .deb), not at configure time.
install(CODE "
  set(DIALERD_BINDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
  set(DIALERD_DOCDIR \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATAROOTDIR}/doc/dialerd\")
  configure_file(\"${PROJECT_SOURCE_DIR}/systemd/dialerd.service.in\"
                 \"${PROJECT_BINARY_DIR}/install-unit/dialerd.service\" @ONLY)
  file(INSTALL \"${PROJECT_BINARY_DIR}/install-unit/dialerd.service\"
       DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")
")
install(FILES systemd/dialerd.sysusers.conf DESTINATION lib/sysusers.d RENAME dialerd.conf)
install(FILES systemd/dialerd.tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME dialerd.conf)
if(EXISTS ${PROJECT_SOURCE_DIR}/systemd/dialerd.example.yaml)
  install(FILES systemd/dialerd.example.yaml DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
endif()
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME dialerd)
set(CPACK_PACKAGE_CONTACT "dialerd maintainers <dialerd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Outbound call-campaign dialer for the Vocobase Partner API")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
