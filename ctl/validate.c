#include "config.h"
#include "berthctl.h"
