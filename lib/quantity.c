#include "config.h"
#include "quantity.h"
