target_sources(hamlet_proto PRIVATE ${CMAKE_CURRENT_LIST_DIR}/noise.c
  ${CMAKE_CURRENT_LIST_DIR}/noise_cipher.c)
