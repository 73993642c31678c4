# hamletd and its wire codec. Included from tests/CMakeLists.txt.
if(TARGET hamlet_wire)
  add_executable(test_wire test_wire.c)
  target_link_libraries(test_wire PRIVATE hamlet_wire)
  add_test(NAME wire COMMAND test_wire)
  set_tests_properties(wire PROPERTIES TIMEOUT 60)
endif()

if(TARGET hamletd)
  add_executable(test_daemon test_daemon.c)
  target_link_libraries(test_daemon PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  add_test(NAME daemon_chain COMMAND test_daemon $<TARGET_FILE:hamletd>)
  set_tests_properties(daemon_chain PROPERTIES TIMEOUT 300)

  # bad links through tests/tools/faultproxy, and a receiver killed mid-sync
  add_executable(test_faults test_faults.c)
  target_link_libraries(test_faults PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  # it bounds what a killed receiver may lose by sync.h's batch size
  target_include_directories(test_faults PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
  add_test(NAME daemon_faults
    COMMAND test_faults $<TARGET_FILE:hamletd> $<TARGET_FILE:faultproxy>)
  set_tests_properties(daemon_faults PROPERTIES TIMEOUT 900)

  # certificates at the handshake
  add_executable(test_trust test_trust.c)
  target_link_libraries(test_trust PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  add_test(NAME daemon_trust COMMAND test_trust $<TARGET_FILE:hamletd>)
  set_tests_properties(daemon_trust PROPERTIES TIMEOUT 300)

  # a reconnection costs what changed: SINCE, no Negentropy; a lost basis
  # falls back to a full reconciliation
  add_executable(test_reconnect test_reconnect.c)
  target_link_libraries(test_reconnect PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  target_include_directories(test_reconnect PRIVATE ${CMAKE_SOURCE_DIR}/bench)
  add_test(NAME daemon_reconnect COMMAND test_reconnect $<TARGET_FILE:hamletd>)
  set_tests_properties(daemon_reconnect PROPERTIES TIMEOUT 300)

  # floods of connections, peers and clients that never read, for 30-60 s
  add_executable(test_flood test_flood.c)
  target_link_libraries(test_flood PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  add_test(NAME daemon_flood COMMAND test_flood $<TARGET_FILE:hamletd>)
  set_tests_properties(daemon_flood PROPERTIES TIMEOUT 300)
endif()

# the same chain driven through the hamlet CLI, writing while the daemons run
if(TARGET hamletd AND TARGET hamlet)
  add_test(NAME sync_chain_cli
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_sync_chain.sh $<TARGET_FILE:hamlet> $<TARGET_FILE:hamletd>)
  set_tests_properties(sync_chain_cli PROPERTIES TIMEOUT 300)
endif()

# Tests that start daemons pick free loopback ports; run them one at a
# time so that two of them never race for the same port.
foreach(t daemon_chain daemon_faults daemon_flood daemon_trust daemon_reconnect sync_chain_cli)
  if(TEST ${t})
    set_tests_properties(${t} PROPERTIES RESOURCE_LOCK loopback_ports)
  endif()
endforeach()

# one daemon per home, a map growing under status, scope checks on every way in
if(TARGET hamletd AND TARGET hamlet)
  add_test(NAME scenario_daemon
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scenario_daemon.sh $<TARGET_FILE:hamlet> $<TARGET_FILE:hamletd>)
  set_tests_properties(scenario_daemon PROPERTIES TIMEOUT 300 RESOURCE_LOCK loopback_ports)
  # a store cut short, emptied or with zeroed pages: DAMAGED, exit 6, no crash
  add_test(NAME scenario_store_damaged
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scenario_store_damaged.sh $<TARGET_FILE:hamlet> $<TARGET_FILE:hamletd>)
  set_tests_properties(scenario_store_damaged PROPERTIES TIMEOUT 300 RESOURCE_LOCK loopback_ports)
endif()
