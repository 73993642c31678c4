hamlet_test(noise)
