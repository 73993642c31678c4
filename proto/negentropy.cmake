target_sources(hamlet_proto PRIVATE ${CMAKE_CURRENT_LIST_DIR}/negentropy.c
  ${CMAKE_CURRENT_LIST_DIR}/negentropy_msg.c)
