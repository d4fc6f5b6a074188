#include "config.h"
#include "diag.h"
