#include "config.h"
#include "yaml-node.h"
