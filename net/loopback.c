#include "config.h"
#include "loopback.h"
