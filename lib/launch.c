#include "config.h"
#include "launch.h"
