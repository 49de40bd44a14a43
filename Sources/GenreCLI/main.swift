print("genre")
