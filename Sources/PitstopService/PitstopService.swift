// PitstopService
