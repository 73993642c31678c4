# The message catalogs. Each language is a directory po/LANG/ of .po files
# (split by part of the program); they are merged with msgcat and compiled
# with msgfmt (Debian's gettext package).
find_program(MSGCAT msgcat)
find_program(MSGFMT msgfmt)
if(NOT MSGCAT OR NOT MSGFMT)
  message(FATAL_ERROR "msgcat/msgfmt not found: install Debian's gettext package")
endif()

set(HAMLET_MO_FILES)
file(GLOB HAMLET_LANGS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}/po
     ${CMAKE_CURRENT_SOURCE_DIR}/po/*)
foreach(lang ${HAMLET_LANGS})
  if(NOT IS_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}/po/${lang})
    continue()
  endif()
  file(GLOB pos CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/po/${lang}/*.po)
  if(NOT pos)
    continue()
  endif()
  set(merged ${CMAKE_BINARY_DIR}/po/${lang}.po)
  set(mo ${CMAKE_BINARY_DIR}/locale/${lang}/LC_MESSAGES/hamlet.mo)
  add_custom_command(
    OUTPUT ${mo}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/po
            ${CMAKE_BINARY_DIR}/locale/${lang}/LC_MESSAGES
    COMMAND ${MSGCAT} --use-first -o ${merged} ${pos}
    COMMAND ${MSGFMT} --check -o ${mo} ${merged}
    DEPENDS ${pos}
    COMMENT "message catalog ${lang}")
  list(APPEND HAMLET_MO_FILES ${mo})
  install(FILES ${mo} DESTINATION ${CMAKE_INSTALL_LOCALEDIR}/${lang}/LC_MESSAGES)
endforeach()
add_custom_target(hamlet_locale ALL DEPENDS ${HAMLET_MO_FILES})
