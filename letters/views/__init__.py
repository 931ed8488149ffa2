"""Letter pages by audience: the shopper's vault and requests, the public verification, the clinician's corrections."""
