"""The pages: the operator dashboard and the guest guidebook, mounted by the API app."""
