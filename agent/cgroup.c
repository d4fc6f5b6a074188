#include "config.h"
#include "cgroup.h"
