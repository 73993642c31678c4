hamlet_test(negentropy)
