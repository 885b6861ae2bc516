import { defineFirmwareCommand } from '../../firmwareCommand.js';
import { RMI_GRANULE_DELEGATE } from './RMI_GRANULE_DELEGATE.js';
import { RMI_GRANULE_UNDELEGATE } from './RMI_GRANULE_UNDELEGATE.js';

/**
 * RMM 2.0's range commands (SMC_RMI_GRANULE_RANGE_DELEGATE/UNDELEGATE, TF-RMM
 * runtime/rmi/granule.c@11fa5585) as the newest kernel uses them: one host page, which is one
 * granule once the RMM is configured to PAGE_SIZE. For one granule the checks and effects are
 * those of the single-granule commands.
 */
export const RMI_GRANULE_RANGE_DELEGATE = defineFirmwareCommand({ ...RMI_GRANULE_DELEGATE, name: 'RMI_GRANULE_RANGE_DELEGATE', spec: 'RMM 2.0 (TF-RMM granule.c@11fa5585)' });
export const RMI_GRANULE_RANGE_UNDELEGATE = defineFirmwareCommand({ ...RMI_GRANULE_UNDELEGATE, name: 'RMI_GRANULE_RANGE_UNDELEGATE', spec: 'RMM 2.0 (TF-RMM granule.c@11fa5585)' });
