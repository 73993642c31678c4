# hamletd and its wire codec. Included from tests/CMakeLists.txt.
if(TARGET hamlet_wire)
  add_executable(test_wire test_wire.c)
  target_link_libraries(test_wire PRIVATE hamlet_wire)
  add_test(NAME wire COMMAND test_wire)
  set_tests_properties(wire PROPERTIES TIMEOUT 60)
endif()

if(TARGET hamletd)
  # daemon_test(EXE NAME TIMEOUT): tests/EXE.c against hamletd, as test NAME
  function(daemon_test exe name timeout)
    add_executable(${exe} ${exe}.c)
    target_link_libraries(${exe} PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
    add_test(NAME ${name} COMMAND ${exe} $<TARGET_FILE:hamletd>)
    set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout})
  endfunction()

  daemon_test(test_daemon daemon_chain 300)

  # bad links through tests/tools/faultproxy, and a receiver killed mid-sync
  add_executable(test_faults test_faults.c)
  target_link_libraries(test_faults PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  # it bounds what a killed receiver may lose by sync.h's batch size
  target_include_directories(test_faults PRIVATE ${CMAKE_SOURCE_DIR}/daemon)
  # two tests, so that ctest -j runs them side by side: the links (a 2G
  # link; drops, stalls and delays), and the receiver killed 20 times
  add_test(NAME daemon_faults_links
    COMMAND test_faults $<TARGET_FILE:hamletd> $<TARGET_FILE:faultproxy>)
  set_tests_properties(daemon_faults_links PROPERTIES TIMEOUT 900
    ENVIRONMENT HAMLET_TEST_CASES=12)
  add_test(NAME daemon_faults_kills
    COMMAND test_faults $<TARGET_FILE:hamletd> $<TARGET_FILE:faultproxy>)
  set_tests_properties(daemon_faults_kills PROPERTIES TIMEOUT 900
    ENVIRONMENT HAMLET_TEST_CASES=3)

  # certificates at the handshake
  daemon_test(test_trust daemon_trust 300)

  # a reconnection costs what changed: SINCE, no Negentropy; a lost basis
  # falls back to a full reconciliation
  add_executable(test_reconnect test_reconnect.c)
  target_link_libraries(test_reconnect PRIVATE hamlet_core hamlet_wire hamlet_daemon_proc)
  target_include_directories(test_reconnect PRIVATE ${CMAKE_SOURCE_DIR}/bench)
  add_test(NAME daemon_reconnect COMMAND test_reconnect $<TARGET_FILE:hamletd>)
  set_tests_properties(daemon_reconnect PROPERTIES TIMEOUT 300)

  # a WANT its holder cannot fill is answered with its head; a head named
  # below what was asked toward ends the wait for it
  daemon_test(test_unfilled daemon_unfilled 200)

  # floods of connections, peers and clients that never read, for 30-60 s
  daemon_test(test_flood daemon_flood 500)

  # a peer that floods TRUST_ITEMS holds few of the writer's places
  daemon_test(test_trust_flood daemon_trust_flood 300)

  # peers that repeat TRUST_HAVE or TRUST_IDS against a large trust set
  daemon_test(test_trust_ids daemon_trust_ids 300)
endif()

# the same chain driven through the hamlet CLI, writing while the daemons run
if(TARGET hamletd AND TARGET hamlet)
  add_test(NAME sync_chain_cli
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_sync_chain.sh $<TARGET_FILE:hamlet> $<TARGET_FILE:hamletd>)
  set_tests_properties(sync_chain_cli PROPERTIES TIMEOUT 300)
endif()

# Tests that start daemons pick free loopback ports; run them one at a
# time so that two of them never race for the same port. The two
# daemon_faults tests need no turn: each daemon and proxy they start
# binds a port found free, on a new one if it was taken meanwhile
# (daemon_proc_start_listening), and no port is bound again once its
# process ended (the killed commune restarts on a new port; the village
# and the proxies run throughout a case). Nor do they churn through
# ports as the floods of daemon_flood and daemon_chain do, which could
# take the port daemon_trust restarts a daemon on.
foreach(t daemon_chain daemon_flood daemon_trust daemon_trust_flood daemon_trust_ids daemon_reconnect sync_chain_cli)
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
