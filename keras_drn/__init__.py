"""keras-drn: dilated convolutional networks for semantic segmentation, in Keras 3.

Every network of *Multi-Scale Context Aggregation by Dilated Convolutions* (Yu & Koltun,
ICLR 2016) and *Dilated Residual Networks* (Yu, Koltun & Funkhouser, CVPR 2017) behind
the keras.applications API.
"""

from keras_drn.applications import DRN
from keras_drn.applications import DRN_A_18
from keras_drn.applications import DRN_A_34
from keras_drn.applications import DRN_A_50
from keras_drn.applications import DRN_B_26
from keras_drn.applications import DRN_C_26
from keras_drn.applications import DRN_C_42
from keras_drn.applications import DRN_C_58
from keras_drn.applications import DRN_D_22
from keras_drn.applications import DRN_D_24
from keras_drn.applications import DRN_D_38
from keras_drn.applications import DRN_D_40
from keras_drn.applications import DRN_D_54
from keras_drn.applications import DRN_D_56
from keras_drn.applications import DRN_D_105
from keras_drn.applications import DRN_D_107
from keras_drn.applications import Dilation7
from keras_drn.applications import Dilation8
from keras_drn.applications import Dilation10
from keras_drn.applications import DRNSeg
from keras_drn.preprocessing import preprocess_input
from keras_drn.version import __version__

__all__ = [
    "DRN",
    "DRN_A_18",
    "DRN_A_34",
    "DRN_A_50",
    "DRN_B_26",
    "DRN_C_26",
    "DRN_C_42",
    "DRN_C_58",
    "DRN_D_22",
    "DRN_D_24",
    "DRN_D_38",
    "DRN_D_40",
    "DRN_D_54",
    "DRN_D_56",
    "DRN_D_105",
    "DRN_D_107",
    "DRNSeg",
    "Dilation7",
    "Dilation8",
    "Dilation10",
    "__version__",
    "preprocess_input",
]
