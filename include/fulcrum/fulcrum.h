// The Fulcrum C++ API. Include this one header.
#pragma once

#include "fulcrum/calibrate.h"
#include "fulcrum/engine.h"
#include "fulcrum/network.h"
#include "fulcrum/npy.h"
#include "fulcrum/status.h"
#include "fulcrum/tensor.h"
#include "fulcrum/version.h"
