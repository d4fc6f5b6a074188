#include "config.h"
#include "schema.h"
