#include "config.h"
#include "model-json.h"
